"""What Hlasatel's web pages share (the console; the citizens' pages next): texts, cookies, forms, policy,
scripts."""

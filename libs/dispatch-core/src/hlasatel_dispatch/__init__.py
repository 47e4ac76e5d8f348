"""The mechanism shared by dispatch-sms, dispatch-email and dispatch-push."""

"""Prometheus metrics of every dispatcher, labelled by provider account and lane, never by a contact."""

from prometheus_client import Counter, Histogram

LABELS = ("channel", "provider", "lane")

SENT = Counter("hlasatel_dispatch_sent_total", "Deliveries a provider accepted", LABELS)
FAILED = Counter(
    "hlasatel_dispatch_failed_total",
    "Deliveries finished without a provider accepting them, by why",
    (*LABELS, "kind"),
)
RETRIED = Counter(
    "hlasatel_dispatch_retried_total", "Attempts that failed retryably and were scheduled again", LABELS
)
ACCEPTANCE = Histogram(
    "hlasatel_dispatch_acceptance_seconds",
    "From the composer's delivery request to the provider's acceptance",
    LABELS,
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
CALL = Histogram(
    "hlasatel_dispatch_provider_call_seconds",
    "How long a provider account took to answer one call (one delivery, or one batch where the provider "
    "has a batch API), by how the call ended: accepted, refused (permanently) or failed (retryably)",
    ("channel", "provider", "outcome"),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

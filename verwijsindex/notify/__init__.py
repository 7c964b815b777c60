"""Transport for the notification outbox (contract 7): SMTP mail, Standard Webhooks, retry policy.

Nothing here touches the database. The outbox (queued in the transaction that caused a
notification, dispatched after commit) calls `MailSender.send` and `WebhookSender.send`, stores a
failed attempt's `DeliveryError.reason`, and asks `next_attempt_at` when to try again. That
split keeps a slow or dead mail server or receiver out of the request that caused it.
"""

"""When check-ins are due, and the reminders and e-mails sent by the background worker."""

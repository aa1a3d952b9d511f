"""An example smsauth gateway type, installed as a plug-in: see ``acme_sms_gateway.provider``."""

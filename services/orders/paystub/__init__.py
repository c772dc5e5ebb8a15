"""The stub payment provider: a stand-in for WeChat Pay, outside Linli though it runs in orders'
processes (`paystub`, with its cashier pages), its notification crypto (`wechatpay`) and its own
database (`store`, `<namespace>_paystub`)."""

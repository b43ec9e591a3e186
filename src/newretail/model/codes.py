"""Coded values shared by the model, the generator and ingest; a value outside these is rejected."""

from __future__ import annotations

SOURCES = (
    "erp",  # head-office ERP: stores, products, materials, purchasing, inventory
    "pos",  # in-store tills: orders, POS member cards
    "app",  # the brand's own app
    "mini_program",  # the WeChat mini-program
    "wechat",  # WeChat official account and member card
    "meituan",  # delivery platform
    "eleme",  # delivery platform
    "tmall",  # e-commerce (beans, drip bags, merchandise)
    "crm",  # memberships and coupons
    "service",  # customer service: refunds, complaints, ratings
    "iot",  # device telemetry
    "qc",  # quality inspections
    "footfall",  # door counters
    "weather",  # daily weather per city
    # The order middle platform: orders placed through newretail's own checkout (POS, app and
    # mini-program call it), their refunds and the coupons redeemed on them, relayed from OLTP.
    "oms",
)
CHANNELS = ("app", "mini_program", "pos", "meituan", "eleme", "tmall")
FULFILMENTS = ("dine_in", "takeaway", "pickup", "delivery", "shipping")
PAYMENT_METHODS = ("wechat_pay", "alipay", "card", "cash", "stored_value", "platform")
ORDER_STATUSES = ("completed", "cancelled")
STORE_FORMATS = ("flagship", "standard", "pickup", "delivery_kitchen")
COUNTRIES = ("CN", "SG")
CURRENCIES = ("CNY", "SGD")
GENDERS = ("F", "M", "U")
LOCATION_TYPES = ("store", "warehouse")
MOVEMENT_KINDS = ("receipt", "consumption", "transfer_in", "transfer_out", "waste", "adjustment")
WASTE_REASONS = ("expiry", "damage", "quality", "prep")
STORAGE = ("ambient", "chilled", "frozen")
UNITS = ("g", "ml", "piece")
COUPON_TYPES = ("amount_off", "percent_off", "free_drink")
COMPLAINT_CATEGORIES = ("late", "wrong_item", "quality", "service", "hygiene", "other")
REFUND_REASONS = ("late", "wrong_item", "quality", "cancelled_by_store", "other")
DEVICE_TYPES = ("fridge", "freezer", "espresso_machine", "oven", "ice_machine")
EVENT_TYPES = ("track", "page", "screen", "identify")

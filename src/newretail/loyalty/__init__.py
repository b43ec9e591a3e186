"""Membership and benefits: schemes and tiers, points, the stored-value wallet, paid membership,
coupons and vouchers, each balance an append-only ledger."""

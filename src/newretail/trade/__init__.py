"""The order middle platform: the checkout catalogue, pricing, order intake, refunds and the relay
of orders to the lake."""

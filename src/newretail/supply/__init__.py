"""Supply: demand forecasts, replenishment, transfers, network planning, alerts and simulation."""

"""Tools the model can call: their specs, safety checks and runners."""

"""Treatment plans: goals agreed with the client, modality and techniques, preferences, the
cultural formulation; every change versioned."""

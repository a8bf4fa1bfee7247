"""Training models: windows of the data, trainers, the training loop, monitoring."""

"""The recommender deployable: trainer, data generator and BentoML service."""

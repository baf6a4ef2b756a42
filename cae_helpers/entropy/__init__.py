"""Entropy models and coding: priors (`priors`), the latent coder and its byte format (`coder`)."""

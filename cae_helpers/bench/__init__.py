"""Benchmarks: rate-distortion curves (`rd`), the classic codecs (`classic`), curve maths (`curves`), speed (`speed`)."""

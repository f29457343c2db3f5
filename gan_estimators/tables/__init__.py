"""Mixed-type tables (pandas DataFrames): which columns are discrete, and the reversible
encoding a GAN trains on.

This subpackage imports neither TensorFlow nor Keras: the quality metrics of tables use its
column kinds too.
"""

"""One widget per module; each paints a view model from ``dive_py.viewmodel``."""

"""Static pages for risk officers (served under /ui by api.app)."""

"""Unicode in identifiers and strings."""
naïve = "café"
π = 3.14159
nombre_año = 2026
message = "ünïcödé → ok"  # comment with émoji 🎉

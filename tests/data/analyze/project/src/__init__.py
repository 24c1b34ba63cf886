"""Task manager API: users own tasks that move through a simple workflow."""

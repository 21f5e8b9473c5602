"""Mesa agents of the model: centres, host institutions, companies and foundations."""

"""The typed configuration: the parameter schema and the profiles it validates."""

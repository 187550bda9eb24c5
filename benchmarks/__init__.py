"""The benchmark harness behind `invoke bench` (developer tooling, not the product)."""

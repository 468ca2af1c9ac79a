"""The gRPC layer: servicers that translate proto ⇄ domain, and the status boundary."""

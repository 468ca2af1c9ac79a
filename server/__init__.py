"""connfacade server: the gRPC facade over the AWS connection APIs."""

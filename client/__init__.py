"""connfacade client: generated stubs, typed Python clients and the ``connfacade`` command."""

"""What `start_facade` hands back is made with keywords only."""

from __future__ import annotations

import pytest

from connfacade.server.app import RunningFacade


def test_a_running_facade_cannot_be_made_from_positional_arguments():
    """Several fields share a type (two servers, optional parts): a positional call could swap two unseen."""
    with pytest.raises(TypeError):
        RunningFacade(None, None, (), {}, None)

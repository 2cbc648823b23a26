"""Controller-side access to the Docker engines that run the pipeline's containers.

``forward`` keeps one OpenSSH connection per engine host and forwards its Docker socket to a local
one, so that every task on a container reuses it; ``api`` answers the few Engine API questions the
gate asks; ``gate`` is what the ``groot_container_gate`` module runs at the start of each play.
"""

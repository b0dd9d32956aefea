"""Local Kafka and Redis for development and tests, behind ``streamapp dev up|down|status``.

Kafka runs from Apache's jars (fetched once with Maven) on the machine's Java, Redis is the
system's ``redis-server``; both listen on loopback at the addresses in the settings. The API lives
in :mod:`streamapp.dev.services`:

- ``ensure_services(settings, console)`` starts what is missing and waits until both answer;
- ``stop_services(settings, console)`` stops what ``dev up`` started;
- ``service_status(settings)`` says who answers and who started it.
"""

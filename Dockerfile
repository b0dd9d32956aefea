# The streamapp worker, as docker-compose.yml runs it next to Kafka and Redis.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY streamapp ./streamapp
RUN pip install . && useradd --create-home --uid 1000 streamapp

USER streamapp
# The web server must listen beyond the container's loopback to be published.
ENV STREAMAPP_WEB_HOST=0.0.0.0
EXPOSE 6066
CMD ["streamapp", "worker"]

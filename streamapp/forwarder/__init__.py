"""Forwarding change events to a webhook: signing, filtering, delivery with retries."""

"""streamapp: streaming, real-time customer segmentation on Kafka, Faust and Redis."""

__version__ = "0.1.0"

"""Detection API: YOLO object detection through ultralytics (``POST /detect``)."""

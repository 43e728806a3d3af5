# One image for every ai-worker service; the command picks the queue.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# OCR engine with its Korean data, and the fonts wrong-answer notes are set in
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-kor fonts-nanum fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md celeryconfig.py flowerconfig.py ./
COPY aicore aicore
COPY ai_tasks ai_tasks
COPY omr omr
COPY vision vision
COPY nlp nlp
ARG EXTRAS=vision,ops
RUN pip install ".[${EXTRAS}]" && useradd --system --uid 10001 worker
USER worker
CMD ["celery", "-A", "ai_tasks", "worker", "-Q", "cpu-vision", "--loglevel", "INFO"]

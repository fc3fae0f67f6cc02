# Arena: slim image that installs, migrates and serves (no secrets baked in; pass keys as env vars).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 GRADIO_ANALYTICS_ENABLED=False \
    ARENA_HOST=0.0.0.0 ARENA_PORT=7860 ARENA_DATA_DIR=/app/data
RUN apt-get update && apt-get install -y --no-install-recommends wordnet-base fluidsynth timgm6mb-soundfont \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY arena ./arena
COPY rating ./rating
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install --no-cache-dir -e .
COPY alembic.ini app.py ./
COPY migrations ./migrations
VOLUME ["/app/data"]
EXPOSE 7860
CMD ["sh", "-c", "arena db upgrade && python app.py"]

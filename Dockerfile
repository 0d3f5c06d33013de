# RepostWatch: one process that polls feeds, scores, matches stories and runs the Telegram bot.
#   docker build -t repostwatch .
#   docker run -d -e TELEGRAM_BOT_TOKEN=... -v repostwatch-data:/data repostwatch
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REPOSTWATCH_DATA=/data \
    REPOSTWATCH_FEEDS=/app/feeds.yaml

RUN useradd --create-home --uid 10001 repostwatch \
    && mkdir /data && chown repostwatch:repostwatch /data

WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY poller/__init__.py poller/
COPY classifiers/__init__.py classifiers/
COPY storage/__init__.py storage/
COPY bot/__init__.py bot/
RUN pip install . && pip uninstall -y repostwatch

# The source checkout itself, installed editable: `repostwatch demo` serves tests/fixtures/.
COPY . .
RUN pip install --no-deps -e .

USER repostwatch
VOLUME ["/data"]
CMD ["repostwatch", "run"]

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir . && useradd --system --uid 10001 gateway
USER gateway
EXPOSE 8000
# uvloop + httptools come with uvicorn[standard]; --proxy-headers so rate limits see the
# customer's address behind the load balancer (set FORWARDED_ALLOW_IPS to the balancer's).
CMD ["sh", "-c", "uvicorn --factory app.main:create_app --host 0.0.0.0 --port 8000 --no-access-log --proxy-headers --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1}\""]

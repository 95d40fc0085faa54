# Build and run fnf-server. The image serves on 0.0.0.0:8089; configure credentials
# (FNF_ACCESS_KEY_ID / FNF_ACCESS_KEY_SECRET or a credentials file), because the server
# refuses the public development key on a non-loopback address.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked --bin fnf-server

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/fnf-server /usr/local/bin/fnf-server
ENV FNF_LISTEN=0.0.0.0:8089
EXPOSE 8089
ENTRYPOINT ["/usr/local/bin/fnf-server"]

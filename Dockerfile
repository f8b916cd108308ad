# authgate's container image: a static binary on distroless, as a non-root
# user. Build: docker build --build-arg VERSION=$(git describe --tags) -t authgate .
# A test (cmd/authgate/docker_test.go) runs this file's go build line and
# checks the result is static and stamped; no Docker engine is needed for it.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/authgate ./cmd/authgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authgate /authgate
USER nonroot:nonroot
# 8000: proxy, forward-auth and tokens (AUTHGATE_ADDR); 9091: admin (AUTHGATE_ADMIN_ADDR)
EXPOSE 8000 9091
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/authgate", "healthcheck"]
ENTRYPOINT ["/authgate"]
CMD ["serve"]

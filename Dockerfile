# syntax=docker/dockerfile:1
# Build from the repository root:  docker build -t egress-webhook:dev .
# Stage 1 restores and publishes the server with the SDK; stage 2 holds only the published app on the
# chiseled ASP.NET runtime (no shell, no package manager, non-root user "app" = 1654).

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
# The build settings first (SDK pin, analyzers, central package versions), then the sources.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet restore src/EgressWebhook.Server/EgressWebhook.Server.csproj
RUN dotnet publish src/EgressWebhook.Server/EgressWebhook.Server.csproj \
        --configuration Release --no-restore --output /app -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app ./
# Admission over HTTPS on 8443; the image's default HTTP port 8080 is cleared, because the server
# serves /healthz, /readyz and /metrics on 8080 itself.
ENV ASPNETCORE_URLS=https://+:8443 \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 8443 8080
USER 1654:1654
ENTRYPOINT ["dotnet", "EgressWebhook.Server.dll"]

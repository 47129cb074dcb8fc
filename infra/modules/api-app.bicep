// The API (Api/) as an Orleans client of the silos (Orleans:ApiHost = Client): public HTTPS
// ingress, scaled on concurrent HTTP requests, its API keys as Container Apps secrets.
import { resourceTags, appSetting, orleansTlsSecretName } from '../types.bicep'

param location string
param tags resourceTags
param name string
param environmentId string
param identityId string
param registryServer string

@description('Empty: a placeholder image until azd deploys the built one.')
param image string

@secure()
@description('The Orleans cluster certificate (base64 PFX): a Container Apps secret, read as Orleans:Tls:Certificate.')
param tlsCertificate string

@description('Environment variables shared with the silos (name/value pairs).')
param settings appSetting[]

@minValue(1)
param minReplicas int

@minValue(1)
param maxReplicas int

@description('Empty: no Entra ID tokens, keys only.')
param entraTenantId string

param entraClientId string

@description('false: no API keys (Entra ID tokens only); the keys below are then empty.')
param keysEnabled bool

@secure()
param adminKey string

@secure()
param writerKey string

@secure()
param readerKey string

// ASP.NET Core's port in the .NET runtime images (ASPNETCORE_HTTP_PORTS).
var httpPort = 8080

// Requests in flight per replica before another replica is added.
var concurrentRequestsPerReplica = '50'

// Each key is a Container Apps secret, which the app reads as Api:Keys:<n>:Key, with its role as
// Api:Keys:<n>:Role (README "Configuration").
var keys = [
  { role: 'admin', secret: 'api-key-admin', value: adminKey }
  { role: 'writer', secret: 'api-key-writer', value: writerKey }
  { role: 'reader', secret: 'api-key-reader', value: readerKey }
]
var keySecrets = [for key in keys: { name: key.secret, value: key.value }]
var keySettings = [
  { name: 'Api__Keys__0__Key', secretRef: keys[0].secret }
  { name: 'Api__Keys__0__Role', value: keys[0].role }
  { name: 'Api__Keys__1__Key', secretRef: keys[1].secret }
  { name: 'Api__Keys__1__Role', value: keys[1].role }
  { name: 'Api__Keys__2__Key', secretRef: keys[2].secret }
  { name: 'Api__Keys__2__Role', value: keys[2].role }
]

// Entra ID tokens beside the keys (Api/Auth/EntraOptions.cs; nothing secret: a tenant and an audience).
var entraSettings = empty(entraTenantId) ? [] : [
  { name: 'Authentication__Entra__TenantId', value: entraTenantId }
  { name: 'Authentication__Entra__ClientId', value: entraClientId }
]

resource api 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      ingress: {
        external: true
        transport: 'auto'
        targetPort: httpPort
        allowInsecure: false
      }
      secrets: concat(keysEnabled ? keySecrets : [], [
        { name: orleansTlsSecretName, value: tlsCertificate }
      ])
    }
    template: {
      // On SIGTERM the API serves on, not ready, while the ingress takes the replica out
      // (Api:ShutdownDrain, below), then drains its requests and closes its gateway connections:
      // the drain, the client's response timeout (7 s) and 5 s (Api/Operations/GracefulShutdown.cs).
      terminationGracePeriodSeconds: 30
      containers: [
        {
          name: 'api'
          image: empty(image) ? 'mcr.microsoft.com/k8se/quickstart:latest' : image
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: concat(settings, keysEnabled ? keySettings : [], entraSettings, [
            { name: 'Orleans__Tls__Certificate', secretRef: orleansTlsSecretName }
            { name: 'Orleans__ApiHost', value: 'Client' }
            // Container Apps offers no pre-stop hook and its ingress learns of a stopping replica a few seconds late.
            { name: 'Api__ShutdownDrain', value: '00:00:10' }
          ])
          probes: [
            {
              // The API's client waits for a first active silo before the host serves HTTP
              // (README "Cluster mode"): on a first deployment the silos start beside it. It pauses
              // 3 minutes in all between its 16 attempts (Silo/ClientConnectionRetry.cs), each up to
              // 5 s; the probe gives it 265 s (10 failures at most on Container Apps, so a longer period).
              type: 'Startup'
              httpGet: { path: '/health/live', port: httpPort }
              initialDelaySeconds: 5
              periodSeconds: 26
              failureThreshold: 10
              timeoutSeconds: 3
            }
            {
              // 503 while no silo answers or the event log does not: no traffic then.
              type: 'Readiness'
              httpGet: { path: '/health/ready', port: httpPort }
              periodSeconds: 10
              failureThreshold: 3
              timeoutSeconds: 5
            }
            {
              type: 'Liveness'
              httpGet: { path: '/health/live', port: httpPort }
              periodSeconds: 10
              failureThreshold: 3
              timeoutSeconds: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http'
            http: {
              metadata: { concurrentRequests: concurrentRequestsPerReplica }
            }
          }
        ]
      }
    }
  }
}

output name string = api.name
output url string = 'https://${api.properties.configuration.ingress.fqdn}'

// OrderFlow in Azure (README "Operate it in Azure"): a Storage account for the event log,
// projections, cluster membership and stream queues, reached only with a managed identity; a
// Container Apps environment on its own virtual network running the silos (never fewer than two)
// and the API (an Orleans client of the silos, public over HTTPS); a registry for the images;
// Log Analytics and Application Insights; a Key Vault for the key-encryption key of personal data. The Azure Developer CLI's layout: `azd up` provisions
// this and deploys the images azure.yaml builds.
targetScope = 'subscription'

@minLength(1)
@maxLength(48)
@description('Name of the azd environment: the resource group is rg-<name>, and every resource name derives from it.')
param environmentName string

@minLength(1)
@description('Azure region of every resource.')
param location string

@description('Orleans cluster id shared by the silos and the API; a new id forms a new cluster (README "Cluster mode").')
param orleansClusterId string = 'orderflow'

@description('Orleans service id; keep it across deployments, grain state and streams are keyed by it.')
param orleansServiceId string = 'orderflow'

@description('Image of the silo container; empty before the first `azd deploy` (a placeholder runs until then).')
param siloImage string = ''

@description('Image of the API container; empty before the first `azd deploy` (a placeholder runs until then).')
param apiImage string = ''

@minValue(2)
@description('Silo replicas that always run: a cluster of one has no one to hand its grains to.')
param siloMinReplicas int = 2

@minValue(2)
@description('Most silo replicas the CPU rule may add.')
param siloMaxReplicas int = 4

@minValue(1)
@description('API replicas that always run.')
param apiMinReplicas int = 1

@minValue(1)
@description('Most API replicas the HTTP rule may add.')
param apiMaxReplicas int = 10

@description('Whether the API accepts the three API keys below. false: Entra ID tokens only (entraTenantId and entraClientId required); the key parameters are then not used.')
param apiKeysEnabled bool = true

@secure()
@description('The admin API key (X-Api-Key), 16 characters or more: becomes a Container Apps secret of the API, never a plain setting.')
param apiAdminKey string = ''

@secure()
@description('The writer API key (commands and queries), 16 characters or more: a Container Apps secret of the API.')
param apiWriterKey string = ''

@secure()
@description('The reader API key (queries only), 16 characters or more: a Container Apps secret of the API.')
param apiReaderKey string = ''

@description('Object id of the user or service principal running the deployment (azd fills AZURE_PRINCIPAL_ID): may manage the key vault\'s secrets, so that the postprovision hook can create the key-encryption key. Empty: create it otherwise (README "Operate it in Azure").')
param deployerPrincipalId string = ''

@secure()
@description('The Orleans cluster certificate: a PFX without password, in base64 (base64 -w0 cluster.pfx). Every silo and the API present it and accept only it on Orleans\' connections (mutual TLS, README "Cluster mode"); a Container Apps secret of both apps, never a plain setting.')
param orleansTlsCertificate string = ''

@description('SHA-256 thumbprints, separated by commas, of other certificates the silos and the API accept besides orleansTlsCertificate, during a rotation (README "Cluster mode", TLS).')
param orleansTlsAcceptedThumbprints string = ''

@description('Microsoft Entra ID tenant whose access tokens the API accepts (README "Identity"); empty: keys only. Given with entraClientId, or not at all.')
param entraTenantId string = ''

@description('Application (client) id of the API\'s app registration: the tokens\' audience. Given with entraTenantId, or not at all.')
param entraClientId string = ''

// Bicep has no checks across parameters: fail() stops the deployment, before anything is created,
// with the reason. The API would otherwise refuse to start (a tenant without an audience), or
// accept no caller at all.
var entra = empty(entraTenantId) != empty(entraClientId)
  ? fail('entraTenantId and entraClientId go together: give both (the API accepts Entra ID tokens) or neither (keys only)')
  : !apiKeysEnabled && empty(entraTenantId)
      ? fail('apiKeysEnabled is false, so the API accepts Entra ID tokens only: give entraTenantId and entraClientId (README "Identity")')
      : { tenantId: entraTenantId, clientId: entraClientId }

// The keys the API gets: none for tokens only, else each of 16 characters or more (the message
// names the parameters, never a value).
var apiKeys = !apiKeysEnabled
  ? { admin: '', writer: '', reader: '' }
  : !empty(filter([apiAdminKey, apiWriterKey, apiReaderKey], key => length(key) < 16))
      ? fail('apiAdminKey, apiWriterKey and apiReaderKey must each have 16 characters or more (or set apiKeysEnabled to false, with Entra ID)')
      : { admin: apiAdminKey, writer: apiWriterKey, reader: apiReaderKey }

// Silo-to-silo and client-to-gateway traffic carries personal data and the subjects' keys: no
// deployment without the cluster's certificate.
var clusterCertificate = empty(orleansTlsCertificate)
  ? fail('orleansTlsCertificate is required: the base64 PFX of the Orleans cluster certificate (README "Operate it in Azure", TLS)')
  : orleansTlsCertificate

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
// Names known before deployment, so that a module referring to another's resource gets a name,
// not an output (What-If can then predict it).
var names = {
  logAnalytics: 'log-${resourceToken}'
  applicationInsights: 'appi-${resourceToken}'
  network: 'vnet-${resourceToken}'
  storage: 'st${resourceToken}'
  registry: 'cr${resourceToken}'
  identity: 'id-${resourceToken}'
  environment: 'cae-${resourceToken}'
  silo: 'ca-silo-${resourceToken}'
  api: 'ca-api-${resourceToken}'
  keyVault: 'kv-${resourceToken}'
}

// The Key Vault secret holding the key-encryption key (README "Personal data"); its versions are the key's versions.
var keyEncryptionKeySecretName = 'personal-data-kek'

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
  }
}

module network 'modules/network.bicep' = {
  name: 'network'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.network
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.storage
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.registry
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.identity
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.keyVault
  }
}

module access 'modules/access.bicep' = {
  name: 'access'
  scope: resourceGroup
  params: {
    identityName: names.identity
    storageAccountName: names.storage
    registryName: names.registry
    keyVaultName: names.keyVault
    deployerPrincipalId: deployerPrincipalId
  }
  dependsOn: [identity, storage, registry, keyVault]
}

module environment 'modules/environment.bicep' = {
  name: 'environment'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.environment
    infrastructureSubnetId: network.outputs.containerAppsSubnetId
    logAnalyticsName: names.logAnalytics
  }
  dependsOn: [monitoring]
}

// The settings silos and the API share (README "Configuration", "Cluster mode"): storage endpoint
// URIs reached with DefaultAzureCredential as the user-assigned identity, table clustering, the
// cluster's identity. Orleans:AdvertisedAddress stays unset: the app then advertises the
// replica's own first non-loopback IPv4, the address other replicas reach it on.
var clusterSettings = [
  { name: 'ConnectionStrings__Tables', value: storage.outputs.tableEndpoint }
  { name: 'ConnectionStrings__Queues', value: storage.outputs.queueEndpoint }
  { name: 'AZURE_CLIENT_ID', value: identity.outputs.clientId }
  { name: 'Orleans__Clustering', value: 'AzureTable' }
  { name: 'Orleans__ClusterId', value: orleansClusterId }
  { name: 'Orleans__ServiceId', value: orleansServiceId }
  { name: 'Streams__Provider', value: 'AzureQueue' }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: monitoring.outputs.applicationInsightsConnectionString }
]
// Silos only: the grains seal and open personal data; the API, a client of the cluster, never
// unwraps a subject key (its readiness check only pings the key table), so it is not told the KEK.
var keyEncryptionKeySettings = [
  { name: 'PersonalData__KeyEncryptionKey__VaultUri', value: keyVault.outputs.uri }
  { name: 'PersonalData__KeyEncryptionKey__SecretName', value: keyEncryptionKeySecretName }
]
// The certificate itself is a secret of each app (modules); a thumbprint is not secret.
var acceptedThumbprints = empty(orleansTlsAcceptedThumbprints) ? [] : split(orleansTlsAcceptedThumbprints, ',')
var acceptedThumbprintSettings = [for (thumbprint, index) in acceptedThumbprints: {
  name: 'Orleans__Tls__AcceptedThumbprints__${index}'
  value: trim(thumbprint)
}]

module silo 'modules/silo-app.bicep' = {
  name: 'silo-app'
  scope: resourceGroup
  params: {
    location: location
    tags: union(tags, { 'azd-service-name': 'silo' })
    name: names.silo
    environmentId: environment.outputs.id
    identityId: identity.outputs.id
    registryServer: registry.outputs.loginServer
    image: siloImage
    settings: concat(clusterSettings, keyEncryptionKeySettings, acceptedThumbprintSettings)
    tlsCertificate: clusterCertificate
    minReplicas: siloMinReplicas
    maxReplicas: siloMaxReplicas
  }
  dependsOn: [access]
}

module api 'modules/api-app.bicep' = {
  name: 'api-app'
  scope: resourceGroup
  params: {
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    name: names.api
    environmentId: environment.outputs.id
    identityId: identity.outputs.id
    registryServer: registry.outputs.loginServer
    image: apiImage
    settings: concat(clusterSettings, acceptedThumbprintSettings)
    tlsCertificate: clusterCertificate
    minReplicas: apiMinReplicas
    maxReplicas: apiMaxReplicas
    entraTenantId: entra.tenantId
    entraClientId: entra.clientId
    keysEnabled: apiKeysEnabled
    adminKey: apiKeys.admin
    writerKey: apiKeys.writer
    readerKey: apiKeys.reader
  }
  dependsOn: [access]
}

// Read by azd (registry for the remote build, the deployed apps) and by README's `az` path.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = environment.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output SILO_APP_NAME string = silo.outputs.name
output API_APP_NAME string = api.outputs.name
output API_URL string = api.outputs.url
// Read by the postprovision hook (infra/hooks/create-key-encryption-key.sh): names, never the key.
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output PERSONAL_DATA_KEK_SECRET_NAME string = keyEncryptionKeySecretName

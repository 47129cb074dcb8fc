// The one identity the silos and the API run as (DefaultAzureCredential with AZURE_CLIENT_ID).
import { resourceTags } from '../types.bicep'

param location string
param tags resourceTags
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId

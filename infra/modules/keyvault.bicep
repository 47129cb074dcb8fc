// The vault of the key-encryption key that wraps every data subject's key in the key table
// (README "Personal data"). Access by Azure RBAC only (no access policies). Soft delete and purge
// protection: the key-encryption key is never shredded, by accident or on purpose, since losing it
// would lose every subject's key at once; erasure shreds one subject's key in the key table
// instead. The secret itself is not created here: a random value must never be part of a template,
// its parameters or outputs (azure.yaml's postprovision hook creates it when absent).
import { resourceTags } from '../types.bicep'

param location string
param tags resourceTags
param name string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri

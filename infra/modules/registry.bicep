// The images azd builds in the registry itself (remote build); the apps pull them with the
// managed identity (AcrPull), so the admin user stays off.
import { resourceTags } from '../types.bicep'

param location string
param tags resourceTags
param name string

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer

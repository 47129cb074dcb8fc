// The environment's own virtual network: the silos' replicas reach each other (silo port) and the
// API reaches them (gateway port) on their addresses in this subnet.
import { resourceTags } from '../types.bicep'

param location string
param tags resourceTags
param name string

resource network 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: ['10.40.0.0/16'] }
    subnets: [
      {
        name: 'container-apps'
        properties: {
          // A workload-profiles environment needs a subnet delegated to it (at least /27); /23
          // leaves room for many replicas.
          addressPrefix: '10.40.0.0/23'
          delegations: [
            {
              name: 'container-apps'
              properties: { serviceName: 'Microsoft.App/environments' }
            }
          ]
        }
      }
    ]
  }
}

output containerAppsSubnetId string = network.properties.subnets[0].id

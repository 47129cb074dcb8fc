// The silos: one container app whose replicas each run one silo (Silo/, no HTTP). They find each
// other in the membership table and talk directly, replica to replica, on the silo port; the
// API's Orleans client reaches them on the gateway port.
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

@description('Environment variables shared with the API (name/value pairs).')
param settings appSetting[]

@minValue(2)
param minReplicas int

@minValue(2)
param maxReplicas int

// Orleans' defaults, and README "Cluster mode"'s.
var siloPort = 11111
var gatewayPort = 30000
// Accepts connections only while the silo is active (Silo/ActiveSiloProbe.cs): what the startup and readiness probes ask.
var probePort = 8081

// SIGTERM starts the silo's graceful stop (Silo/SiloApplication.cs): up to the grain calls'
// response timeout (30 s) plus 15 s to hand its grains over and flush the projections, 45 s in
// all. Past the grace period the platform kills the process; 60 s leaves that stop room.
var terminationGracePeriodSeconds = 60

resource silo 'Microsoft.App/containerApps@2024-03-01' = {
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
      secrets: [
        { name: orleansTlsSecretName, value: tlsCertificate }
      ]
      // TCP ports inside the environment only. Orleans itself dials each replica's advertised
      // address; the ingress declares the ports open to the environment.
      ingress: {
        external: false
        transport: 'tcp'
        targetPort: siloPort
        exposedPort: siloPort
        additionalPortMappings: [
          {
            external: false
            targetPort: gatewayPort
            exposedPort: gatewayPort
          }
        ]
      }
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: 'silo'
          image: empty(image) ? 'mcr.microsoft.com/k8se/quickstart:latest' : image
          resources: {
            cpu: json('1.0')
            memory: '2Gi'
          }
          env: concat(settings, [
            { name: 'Orleans__Tls__Certificate', secretRef: orleansTlsSecretName }
            { name: 'Orleans__SiloPort', value: string(siloPort) }
            { name: 'Orleans__GatewayPort', value: string(gatewayPort) }
            { name: 'Orleans__ProbePort', value: string(probePort) }
          ])
          // A silo serves no HTTP, so the probes are TCP connects. The silo and gateway ports are
          // bound while Orleans initializes, before the silo has joined the cluster: a replica is
          // started and ready once its probe port accepts (only while the silo is active), so that
          // a rollout does not stop the old silos before a new one serves.
          probes: [
            {
              type: 'Startup'
              tcpSocket: { port: probePort }
              initialDelaySeconds: 5
              periodSeconds: 5
              failureThreshold: 10
              timeoutSeconds: 3
            }
            {
              type: 'Readiness'
              tcpSocket: { port: probePort }
              periodSeconds: 10
              failureThreshold: 3
              timeoutSeconds: 3
            }
            {
              type: 'Liveness'
              tcpSocket: { port: siloPort }
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
            name: 'cpu'
            custom: {
              type: 'cpu'
              metadata: {
                type: 'Utilization'
                value: '70'
              }
            }
          }
        ]
      }
    }
  }
}

output name string = silo.name

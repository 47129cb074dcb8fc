// Types the modules share (imported at compile time; nothing here is deployed).

@export()
@description('Resource tags: names to values.')
type resourceTags = { *: string }

@export()
@description('A container\'s environment variable with a plain value (secrets go by secretRef, in the app module).')
type appSetting = { name: string, value: string }

@export()
@description('The Container Apps secret, in the silo and the API apps alike, holding the Orleans TLS certificate (a base64 PFX) that Orleans__Tls__Certificate refers to.')
var orleansTlsSecretName = 'orleans-tls-certificate'

// Types the modules share (imported at compile time; nothing here is deployed).

@export()
@description('Resource tags: names to values.')
type resourceTags = { *: string }

@export()
@description('A container\'s environment variable with a plain value (secrets go by secretRef, in the app module).')
type appSetting = { name: string, value: string }

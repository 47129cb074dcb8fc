#!/bin/sh
# azd postprovision hook (azure.yaml): creates the key-encryption key of personal data (README
# "Personal data", "Operate it in Azure") as a Key Vault secret, once: 32 random bytes in base64,
# generated here and sent straight to the vault, so that the key is never in the template, its
# parameters, its outputs or azd's environment. An existing secret is left alone (a new version
# would be a rotation, see README). Needs the Azure CLI, signed in as the deploying principal,
# which the template lets manage the vault's secrets (deployerPrincipalId = AZURE_PRINCIPAL_ID).
set -eu

vault="${AZURE_KEY_VAULT_NAME:?run by azd after provisioning (output AZURE_KEY_VAULT_NAME)}"
secret="${PERSONAL_DATA_KEK_SECRET_NAME:?run by azd after provisioning (output PERSONAL_DATA_KEK_SECRET_NAME)}"

exists() {
  az keyvault secret list --vault-name "$vault" --query "[?name=='$secret'] | length(@)" --output tsv
}

# A role assignment made by the deployment takes a few minutes to apply: wait for the vault to answer.
attempt=1
until count=$(exists 2>/dev/null); do
  if [ "$attempt" -ge 20 ]; then
    echo "Key Vault $vault does not let this principal list its secrets; run this hook again once it does (azd hooks run postprovision)." >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 15
done

if [ "$count" != "0" ]; then
  echo "Key-encryption key $secret exists in $vault: left as it is."
  exit 0
fi

# A deleted secret of that name is kept (soft delete, purge protection): recover it, never replace it.
if az keyvault secret list-deleted --vault-name "$vault" --query "[?name=='$secret'] | length(@)" --output tsv 2>/dev/null | grep -qv '^0$'; then
  echo "Key-encryption key $secret was deleted from $vault: recover it (az keyvault secret recover --vault-name $vault --name $secret); every wrapped subject key needs it." >&2
  exit 1
fi

# From stdin, not the command line: the key never shows in the process list.
openssl rand -base64 32 | tr -d '\n' \
  | az keyvault secret set --vault-name "$vault" --name "$secret" --file /dev/stdin --encoding utf-8 \
      --content-type "base64; 32 bytes; PersonalData:KeyEncryptionKey" --query "attributes.created" --output tsv >/dev/null
echo "Key-encryption key $secret created in $vault."

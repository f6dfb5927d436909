/** Built-in role ids (the same in every tenant). */
export const BUILT_IN_ROLES = {
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  azureMlDataScientist: 'f6c7c914-8db3-469d-8ca1-694a8f32e121',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  /** Microsoft.ContainerService/managedClusters/runcommand/action (az aks command invoke). */
  aksClusterAdmin: '0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8',
  /** Kubernetes cluster-admin through Azure RBAC (the clusters have no local accounts). */
  aksRbacClusterAdmin: 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b',
} as const;

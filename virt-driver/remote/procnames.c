// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Names of libvirt 9.0 procedures virtdomusd does not implement, so that the
 * VIR_ERR_NO_SUPPORT answer names the API the way libvirt does ("this function is not
 * supported by the connection driver: virDomainSave"): the ones clients are likely to
 * reach. Any other number gets a generic name ("remote procedure N").
 */
#include <stdio.h>

#include <glib.h>

#include "remote.h"

static const struct {
	int proc;
	const char *api;
} names[] = {
	{ 8, "virDomainAttachDevice" },
	{ 13, "virDomainDetachDevice" },
	{ 36, "virConnectListDefinedNetworks" },
	{ 38, "virConnectListNetworks" },
	{ 50, "virConnectNumOfDefinedNetworks" },
	{ 52, "virConnectNumOfNetworks" },
	{ 53, "virDomainCoreDump" },
	{ 54, "virDomainRestore" },
	{ 55, "virDomainSave" },
	{ 64, "virDomainBlockStats" },
	{ 65, "virDomainInterfaceStats" },
	{ 67, "virConnectAuthSaslInit" },
	{ 68, "virConnectAuthSaslStart" },
	{ 69, "virConnectAuthSaslStep" },
	{ 70, "virConnectAuthPolkit" },
	{ 75, "virConnectFindStoragePoolSources" },
	{ 76, "virStoragePoolCreateXML" },
	{ 81, "virStoragePoolDelete" },
	{ 93, "virStorageVolCreateXML" },
	{ 94, "virStorageVolDelete" },
	{ 105, "virConnectDomainEventRegister" },
	{ 106, "virConnectDomainEventDeregister" },
	{ 111, "virNodeNumOfDevices" },
	{ 112, "virNodeListDevices" },
	{ 121, "virDomainGetSecurityLabel" },
	{ 126, "virConnectNumOfInterfaces" },
	{ 127, "virConnectListInterfaces" },
	{ 137, "virConnectNumOfDefinedInterfaces" },
	{ 138, "virConnectListDefinedInterfaces" },
	{ 139, "virConnectNumOfSecrets" },
	{ 140, "virConnectListSecrets" },
	{ 158, "virConnectCompareCPU" },
	{ 160, "virDomainAttachDeviceFlags" },
	{ 161, "virDomainDetachDeviceFlags" },
	{ 162, "virConnectBaselineCPU" },
	{ 163, "virDomainGetJobInfo" },
	{ 164, "virDomainAbortJob" },
	{ 166, "virDomainMigrateSetMaxDowntime" },
	{ 167, "virConnectDomainEventRegisterAny" },
	{ 168, "virConnectDomainEventDeregisterAny" },
	{ 174, "virDomainUpdateDeviceFlags" },
	{ 178, "virConnectNumOfNWFilters" },
	{ 179, "virConnectListNWFilters" },
	{ 182, "virDomainManagedSave" },
	{ 184, "virDomainManagedSaveRemove" },
	{ 185, "virDomainSnapshotCreateXML" },
	{ 187, "virDomainSnapshotNum" },
	{ 188, "virDomainSnapshotListNames" },
	{ 190, "virDomainHasCurrentSnapshot" },
	{ 194, "virDomainGetBlockInfo" },
	{ 197, "virDomainSetMemoryParameters" },
	{ 198, "virDomainGetMemoryParameters" },
	{ 205, "virDomainSetBlkioParameters" },
	{ 206, "virDomainGetBlkioParameters" },
	{ 207, "virDomainMigrateSetMaxSpeed" },
	{ 210, "virDomainInjectNMI" },
	{ 211, "virDomainScreenshot" },
	{ 213, "virDomainMigrateBegin3" },
	{ 214, "virDomainMigratePrepare3" },
	{ 215, "virDomainMigratePrepareTunnel3" },
	{ 216, "virDomainMigratePerform3" },
	{ 217, "virDomainMigrateFinish3" },
	{ 218, "virDomainMigrateConfirm3" },
	{ 226, "virDomainSendKey" },
	{ 229, "virDomainGetControlInfo" },
	{ 232, "virDomainSaveFlags" },
	{ 233, "virDomainRestoreFlags" },
	{ 235, "virDomainSaveImageGetXMLDesc" },
	{ 236, "virDomainSaveImageDefineXML" },
	{ 242, "virDomainMigrateGetMaxSpeed" },
	{ 243, "virDomainBlockStatsFlags" },
	{ 251, "virDomainBlockResize" },
	{ 252, "virDomainSetBlockIoTune" },
	{ 253, "virDomainGetBlockIoTune" },
	{ 254, "virDomainSetNumaParameters" },
	{ 255, "virDomainGetNumaParameters" },
	{ 256, "virDomainSetInterfaceParameters" },
	{ 257, "virDomainGetInterfaceParameters" },
	{ 262, "virDomainGetCPUStats" },
	{ 263, "virDomainGetDiskErrors" },
	{ 264, "virDomainSetMetadata" },
	{ 265, "virDomainGetMetadata" },
	{ 274, "virDomainListAllSnapshots" },
	{ 277, "virDomainGetHostname" },
	{ 279, "virDomainPinEmulator" },
	{ 280, "virDomainGetEmulatorPinInfo" },
	{ 283, "virConnectListAllNetworks" },
	{ 284, "virConnectListAllInterfaces" },
	{ 285, "virConnectListAllNodeDevices" },
	{ 286, "virConnectListAllNWFilters" },
	{ 287, "virConnectListAllSecrets" },
	{ 288, "virNodeSetMemoryParameters" },
	{ 289, "virNodeGetMemoryParameters" },
	{ 294, "virDomainFSTrim" },
	{ 296, "virDomainOpenChannel" },
	{ 298, "virDomainGetJobStats" },
	{ 302, "virDomainMigrateBegin3Params" },
	{ 303, "virDomainMigratePrepare3Params" },
	{ 304, "virDomainMigratePrepareTunnel3Params" },
	{ 305, "virDomainMigratePerform3Params" },
	{ 306, "virDomainMigrateFinish3Params" },
	{ 307, "virDomainMigrateConfirm3Params" },
	{ 308, "virDomainSetMemoryStatsPeriod" },
	{ 312, "virConnectGetCPUModelNames" },
	{ 313, "virConnectNetworkEventRegisterAny" },
	{ 314, "virConnectNetworkEventDeregisterAny" },
	{ 338, "virDomainSetTime" },
	{ 343, "virDomainOpenGraphicsFD" },
	{ 353, "virDomainInterfaceAddresses" },
	{ 368, "virConnectStoragePoolEventRegisterAny" },
	{ 369, "virConnectStoragePoolEventDeregisterAny" },
	{ 374, "virConnectNodeDeviceEventRegisterAny" },
	{ 375, "virConnectNodeDeviceEventDeregisterAny" },
	{ 380, "virConnectSecretEventRegisterAny" },
	{ 381, "virConnectSecretEventDeregisterAny" },
	{ 387, "virDomainMigrateGetMaxDowntime" },
	{ 392, "virDomainDetachDeviceAlias" },
	{ 426, "virDomainGetMessages" },
	{ 440, "virDomainSaveParams" },
	{ 441, "virDomainRestoreParams" },
	{ 443, "virDomainFDAssociate" },
};

const char *remote_proc_api_name(int proc)
{
	static char generic[RP_PROC_LAST_KNOWN + 1][32];
	static gsize init;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (names[i].proc == proc)
			return names[i].api;
	if (proc <= 0 || proc > RP_PROC_LAST_KNOWN)
		return "unknown procedure";
	if (g_once_init_enter(&init)) {
		for (int p = 1; p <= RP_PROC_LAST_KNOWN; p++)
			snprintf(generic[p], sizeof(generic[p]), "remote procedure %d", p);
		g_once_init_leave(&init, 1);
	}
	return generic[proc];
}

namespace EgressWebhook.Server.Logging;

/// <summary>Every <c>[LoggerMessage]</c> event id of the server, one nested class per area and one range of 100 per
/// area (the Recheck area shares the 1000s with Admission). A new message takes the next free id of its area; a new area
/// takes the next free hundred (1800 onwards). <c>EventIdsTests</c> fails when two messages share an id.</summary>
internal static class EventIds
{
    /// <summary>1000–1009: one admission request.</summary>
    public static class Admission
    {
        public const int AdmissionDecided = 1000;
        public const int BadRequest = 1002;
        public const int AdmissionFailed = 1003;
        public const int FreshReadRedecided = 1004;
        public const int FreshReadFailed = 1005;
        public const int DeadlinePassed = 1006;
        public const int RequestAborted = 1007;
        public const int LargeReviewWaited = 1008;
        public const int OutOfMemory = 1009;
    }

    /// <summary>1010–1099: the re-check of an admitted incomplete chain.</summary>
    public static class Recheck
    {
        public const int ChainIncomplete = 1010;
        public const int ChainCompleted = 1011;
        public const int RecheckFailed = 1012;
        public const int EventWriteFailed = 1013;
        public const int RecheckDropped = 1014;
    }

    /// <summary>1100–1199: start, shutdown and the state directory.</summary>
    public static class Startup
    {
        public const int StateLoaded = 1100;
        public const int StateFileInvalid = 1101;
        public const int StateDirectoryUnreadable = 1102;
        public const int StateWatchFailed = 1103;
        public const int Started = 1104;
        public const int Draining = 1105;
    }

    /// <summary>1200–1299: TLS certificates.</summary>
    public static class Tls
    {
        public const int SelfSignedCertificate = 1200;
        public const int CertificateLoaded = 1201;
        public const int CertificateReloadFailed = 1202;
        public const int ClientCaLoaded = 1203;
        public const int ClientCertificateRejected = 1204;
    }

    /// <summary>1300–1399: the live-cluster cache.</summary>
    public static class Cluster
    {
        public const int Listed = 1300;
        public const int WatchFailed = 1301;
        public const int WatchGone = 1302;
        public const int Undecodable = 1303;
        public const int Synced = 1304;
        public const int IstioVersion = 1305;
        public const int IstioNotServed = 1306;
        public const int DiscoveryFailed = 1307;
        public const int WatchPastDeadline = 1308;
        public const int FreshReadFound = 1309;
        public const int FreshReadFailed = 1310;
        public const int ListFailed = 1311;
        public const int PublishFailed = 1312;
        public const int OptionalKinds = 1313;
        public const int OptionalKindStarted = 1314;
        public const int OptionalKindStopped = 1315;
        public const int RediscoveryFailed = 1316;
        public const int OptionalKindFailed = 1317;
        public const int OptionalKindReplacing = 1318;
        public const int OptionalKindReplaced = 1319;
    }

    /// <summary>1400–1499: the routing generator.</summary>
    public static class Generator
    {
        public const int Applied = 1404;
        public const int Deleted = 1405;
        public const int WriteFailed = 1406;
        public const int PassFailed = 1407;
        public const int PassCrashed = 1408;
    }

    /// <summary>1500–1599: the audit log (was 1300, which the cluster cache's Listed also had).</summary>
    public static class Audit
    {
        public const int AuditWriteFailed = 1500;
    }

    /// <summary>1600–1699: the background audit (PolicyReports).</summary>
    public static class BackgroundAudit
    {
        public const int PassCompleted = 1600;
        public const int ReportsNotServed = 1601;
        public const int WriteFailed = 1602;
        public const int PassFailed = 1603;
        public const int IncompletenessPersists = 1604;
    }

    /// <summary>1700–1799: leader election on a coordination.k8s.io Lease (the generator's and the background audit's;
    /// each message names the Lease's purpose). Were 1400–1403 and 1409–1412, the generator's.</summary>
    public static class Leadership
    {
        public const int StartedLeading = 1700;
        public const int StoppedLeading = 1701;
        public const int NewLeader = 1702;
        public const int ElectionFailed = 1703;
        public const int LeaseHttpError = 1704;
        public const int Released = 1705;
        public const int ReleaseFailed = 1706;
        public const int LeaseRequestFailed = 1707;
    }
}

; Inno Setup script: HeartTwin installer for Windows (x64).
;
; 1. On Windows, in a clean virtual environment with HeartTwin and PyInstaller:
;      py -3.11 -m venv build\venv
;      build\venv\Scripts\python -m pip install . -r packaging\requirements.txt
;      build\venv\Scripts\pyinstaller --noconfirm --clean packaging\hearttwin.spec
;    -> dist\hearttwin\ with hearttwin.exe (console: CLI, --self-test) and
;       hearttwinw.exe (no console window: Start menu, double-clicked .htwin files)
; 2. Compile this script with Inno Setup 6 (ISCC.exe), passing the version:
;      ISCC /DAppVersion=0.1.0 packaging\windows\hearttwin.iss
;    -> dist\hearttwin-0.1.0-windows-x64-setup.exe
; 3. Check the installed copy: "%ProgramFiles%\HeartTwin\hearttwin.exe" --self-test
;
; The installer puts the bundle in Program Files, adds Start-menu entries,
; registers the .htwin case type (open with HeartTwin, its icon) and, on request,
; puts hearttwin.exe on the PATH for the command line.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define Bundle "..\..\dist\hearttwin"

[Setup]
AppId={{6F1C2B7E-4A57-4C43-9E0B-3D2A9C6E8B11}
AppName=HeartTwin
AppVersion={#AppVersion}
AppPublisher=HeartTwin project
DefaultDirName={autopf}\HeartTwin
DefaultGroupName=HeartTwin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog
ChangesAssociations=yes
ChangesEnvironment=yes
OutputDir=..\..\dist
OutputBaseFilename=hearttwin-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\hearttwin.ico
UninstallDisplayIcon={app}\hearttwinw.exe
LicenseFile=..\..\LICENSE
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked
Name: "addtopath"; Description: "Add hearttwin to the PATH (command line)"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\HeartTwin"; Filename: "{app}\hearttwinw.exe"
Name: "{group}\HeartTwin self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\hearttwin.exe"" --self-test"
Name: "{group}\Uninstall HeartTwin"; Filename: "{uninstallexe}"
Name: "{autodesktop}\HeartTwin"; Filename: "{app}\hearttwinw.exe"; Tasks: desktopicon

[Registry]
; .htwin -> HeartTwin.Case, opened by hearttwinw.exe "<file>"
Root: HKA; Subkey: "Software\Classes\.htwin"; ValueType: string; ValueName: ""; ValueData: "HeartTwin.Case"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.htwin"; ValueType: string; ValueName: "Content Type"; ValueData: "application/x-hearttwin-case"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\HeartTwin.Case"; ValueType: string; ValueName: ""; ValueData: "HeartTwin case"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\HeartTwin.Case\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\hearttwinw.exe,0"
Root: HKA; Subkey: "Software\Classes\HeartTwin.Case\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\hearttwinw.exe"" ""%1"""
; the command line on the PATH (user or machine, as installed)
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: not IsAdminInstallMode and NeedsAddPath(ExpandConstant('{app}'))
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: IsAdminInstallMode and NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\hearttwinw.exe"; Description: "Start HeartTwin"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if IsAdminInstallMode then
    RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Path)
  else
    RegQueryStringValue(HKCU, 'Environment', 'Path', Path);
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

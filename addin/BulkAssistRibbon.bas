Attribute VB_Name = "BulkAssistRibbon"
' The BulkAssist ribbon's one callback (see customUI14.xml). Every button passes its
' tag to the Python dispatcher, so adding a button never needs a change here.
Option Explicit

Sub OnButton(control As IRibbonControl)
    RunPython "import bulkassist.excel as b; b.dispatch('" & Replace(control.Tag, "'", "") & "')"
End Sub
